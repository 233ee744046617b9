"""CORE: what the model is shown of the code: the target of an action, definitions from other
files, the sources they are read from, and the project's rules files."""
