"""isola's guest runtime internals (not for user code; see the `sandbox` module)."""
