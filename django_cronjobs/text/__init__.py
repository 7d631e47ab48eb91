"""How the app writes things: moments, durations, run messages and runcrons' lines."""
