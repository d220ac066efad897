"""Group features: a group and its moderators, check-ins, reach-outs, audit and screening."""
