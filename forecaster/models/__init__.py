"""The network: its layers, the encoders (a registry: one module each), the model builder."""
