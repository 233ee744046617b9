"""CORE: inline completions: prompt, cleaning, early stop, typeahead cache and the engine."""
