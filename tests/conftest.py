"""Suite-wide settings."""

from hypothesis import settings

# Property tests check behaviour, not speed: the first example pays for loading rigour's and
# ICU's data, and CI machines are shared, so no per-example deadline.
settings.register_profile("qalqan", deadline=None, max_examples=100)
settings.load_profile("qalqan")
