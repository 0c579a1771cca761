"""The frameworks a workspace records against: stored, immutable versions.

Built-in frameworks are installed into a new workspace; the VRP's signed packs (sync issue)
add versions the same way. Parsed definitions are cached per workspace.
"""

from __future__ import annotations

import functools
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop.errors import FrameworkError
from vrp_desktop.frameworks import FrameworkCatalog
from vrp_desktop.frameworks.models import Framework as FrameworkDefinition
from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.store.models import Framework


@functools.cache
def builtin_catalog() -> FrameworkCatalog:
    return FrameworkCatalog.load_builtin()


def install(session: OrmSession, definition: FrameworkDefinition) -> bool:
    """Store a framework version; a stored version is never changed. True if newly stored."""
    text = definition.model_dump_json()
    digest = hashlib.sha256(text.encode()).hexdigest()
    existing = session.get(Framework, (definition.id, definition.version))
    if existing is not None:
        if existing.sha256 != digest:
            raise FrameworkError(
                f"Framework {definition.id} version {definition.version} is already published "
                "with different content. A changed framework needs a new version number."
            )
        return False
    session.add(
        Framework(
            id=definition.id,
            version=definition.version,
            name=definition.name,
            definition=text,
            sha256=digest,
        )
    )
    return True


def install_builtin(session: OrmSession) -> int:
    return sum(install(session, fw) for fw in builtin_catalog().frameworks())


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> FrameworkDefinition:
    return FrameworkDefinition.model_validate(json.loads(text))


def get(session: OrmSession, framework_id: str, version: int | None = None) -> FrameworkDefinition:
    query = select(Framework).where(Framework.id == framework_id)
    if version is not None:
        query = query.where(Framework.version == version)
    row = session.scalars(query.order_by(Framework.version.desc()).limit(1)).first()
    if row is None:
        raise FrameworkError(
            f"Framework {framework_id!r}{f' version {version}' if version else ''} is not "
            "installed in this workspace. Ask your VRP for the framework pack."
        )
    return _parse(row.definition)


def latest(session: OrmSession) -> list[FrameworkDefinition]:
    rows = session.scalars(select(Framework).order_by(Framework.id, Framework.version)).all()
    newest: dict[str, Framework] = {}
    for row in rows:
        newest[row.id] = row
    return [_parse(row.definition) for row in newest.values()]


def measure(measure_id: str) -> MeasureDefinition:
    return builtin_catalog().measure(measure_id)
