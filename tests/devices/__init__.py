"""Device endpoints and the device screens (displays/, kiosks/, the pad, the printer agent)."""
