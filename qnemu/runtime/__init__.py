"""The runtime: schedulers, hosts of nodes, the socket transport and the Ray facade."""
