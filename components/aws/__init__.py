"""AWS building blocks of the EKS stack: VPC, cluster, nodes, add-ons, Pod Identity, the load balancer
controller and Route53. Each takes an explicit ``aws.Provider`` through its options."""
