"""Pure: where everything of a testbed goes, how each daemon is run, what the stand-in API
serves, and LB pods as their compiled Deployment describes them."""
