"""The working-day calendar in force: the SDK's shipped arrangement plus administrators' edits."""
