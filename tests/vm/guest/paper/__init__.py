"""The paper's fabric in lbgen's VM: one testbed for every module here, in their order."""
