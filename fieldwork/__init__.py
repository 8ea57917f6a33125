"""The engineer's side of a visit: the day's plan, and each move from accepted to signed off."""
