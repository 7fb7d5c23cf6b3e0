"""The streaming runtime: Kafka route worker, HTTP ingress and the state they keep."""
