"""/privacy, /export and /forget: what is kept, a member's copy of it, erasure, and the daily
clean-up."""
