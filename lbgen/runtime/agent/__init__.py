"""The node agent: routes each LB pod's service prefix to that pod on its node (paper Fig. 7b
(2)), and removes the route once the pod is gone."""
