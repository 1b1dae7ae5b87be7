"""The engine: one supervisor per job sequencing the effects the lifecycle decides."""
