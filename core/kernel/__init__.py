"""The kernel: what every capability builds on (event model, flow engine, content catalog, feature
registry, the turn, crypto, clock, config). It imports no capability."""
