"""Reach-outs: group membership, volunteers (/volunteer) and members' requests for a peer to reach
out."""
