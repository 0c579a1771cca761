"""Sync to the VRP: onboarding, signed and age-encrypted batches, coordinator import, receipts.

Provider side: ``onboarding.join`` -> ``batch_build.build_batch`` -> ``receipts.import_receipt``.
Coordinator side: ``coordinator.setup`` -> ``coordinator.add_provider`` / ``pin_provider`` ->
``batch_import.import_batch``. Nothing here imports Qt.
"""
