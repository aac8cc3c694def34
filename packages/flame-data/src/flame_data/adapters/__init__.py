"""One module per source dataset in the FLAMe collection; each registers its adapter."""
