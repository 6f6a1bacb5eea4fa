"""Pattern 2: hub-and-spoke Transit Gateway networking, owned by the network account."""
