"""Forms built in code from framework and measure definitions (no .ui files)."""
