#!/bin/sh
# Install (or remove) VRP Desktop from this unpacked folder. Needs no Python and no root.
#
#   ./install.sh              install for this user: ~/.local/opt/vrp-desktop, launchers in
#                             ~/.local/bin, menu entry and icons in ~/.local/share
#   sudo ./install.sh         install for everyone: /opt/vrp-desktop, /usr/local/bin, /usr/local/share
#   ./install.sh --uninstall  remove the program, its launchers and menu entry (same user/root rule)
#   --user                    install or remove for this user even when run as root
#
# Workspaces (your records) are never touched by install or uninstall: they live in
# ~/.local/share/vrp-desktop (or wherever you created them). See README.txt.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
uninstall=no; per_user=no
for arg in "$@"; do
    case "$arg" in
        --uninstall) uninstall=yes ;;
        --user) per_user=yes ;;
        *) echo "usage: $0 [--user] [--uninstall]" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" = 0 ] && [ "$per_user" = no ]; then
    prefix=/opt/vrp-desktop; bin=/usr/local/bin; share=/usr/local/share
else
    prefix="$HOME/.local/opt/vrp-desktop"; bin="$HOME/.local/bin"; share="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
sizes="16 24 32 48 64 128 256 512"

refresh_menus() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
}

if [ "$uninstall" = yes ]; then
    rm -f "$bin/vrp-desktop" "$bin/vrp" "$share/applications/vrp-desktop.desktop"
    for s in $sizes; do rm -f "$share/icons/hicolor/${s}x${s}/apps/vrp-desktop.png"; done
    rm -f "$share/icons/hicolor/scalable/apps/vrp-desktop.svg"
    rm -rf "$prefix"
    refresh_menus
    echo "VRP Desktop removed from $prefix. Your workspaces were not touched."
    exit 0
fi

if [ ! -x "$here/vrp-desktop" ] || [ ! -d "$here/_internal" ]; then
    echo "Run install.sh from the unpacked vrp-desktop folder." >&2
    exit 1
fi

# Copy to a temporary folder first, then swap it in, so a failed copy leaves the old version.
mkdir -p "$(dirname "$prefix")" "$bin" "$share/applications"
rm -rf "$prefix.new"
mkdir "$prefix.new"
cp -a "$here/vrp-desktop" "$here/vrp" "$here/_internal" "$prefix.new/"
[ -f "$here/README.txt" ] && cp "$here/README.txt" "$prefix.new/"
cp "$here/install.sh" "$prefix.new/"
rm -rf "$prefix.old"
[ -d "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"

ln -sf "$prefix/vrp-desktop" "$bin/vrp-desktop"
ln -sf "$prefix/vrp" "$bin/vrp"
for s in $sizes; do
    mkdir -p "$share/icons/hicolor/${s}x${s}/apps"
    cp "$here/share/icons/hicolor/${s}x${s}/apps/vrp-desktop.png" "$share/icons/hicolor/${s}x${s}/apps/"
done
mkdir -p "$share/icons/hicolor/scalable/apps"
cp "$here/share/icons/hicolor/scalable/apps/vrp-desktop.svg" "$share/icons/hicolor/scalable/apps/"
# The menu entry starts the installed program by its full path (~/.local/bin is not always on PATH).
sed -e "s|^Exec=vrp-desktop|Exec=\"$prefix/vrp-desktop\"|" -e "s|^TryExec=vrp-desktop|TryExec=$prefix/vrp-desktop|" \
    "$here/share/applications/vrp-desktop.desktop" > "$share/applications/vrp-desktop.desktop"
refresh_menus

echo "VRP Desktop installed in $prefix."
echo "Start it from the applications menu, or run: $bin/vrp-desktop"
echo "Check it works:  $bin/vrp-desktop --self-test"
flag=""; [ "$per_user" = yes ] && flag=" --user"
echo "Remove it:       $prefix/install.sh --uninstall$flag   (your workspaces stay)"
