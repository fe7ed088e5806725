"""Reader agreement: ``statistics`` is NumPy only (kappas, alpha, percent agreement with
bootstrap CIs); ``selectors`` loads completed reads into it; ``api`` serves the report.
"""
