"""Plain-Python ML code of ICHLabel: no Django import anywhere below this package."""
