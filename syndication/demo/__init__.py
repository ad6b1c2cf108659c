"""The living demo: the demo network, its channel, readers and newsletter (``load_demo``)."""
