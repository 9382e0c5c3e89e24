"""Qt front end: widgets and the bridge to the core engine."""
