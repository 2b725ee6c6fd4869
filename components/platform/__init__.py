"""The platform every stack gets: an ingress controller, cert-manager, its issuers and the certificate helper."""
