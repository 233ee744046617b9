"""The code actions' command names, in one module that the registration and the work import."""

EXPLAIN = "glm.explain"
REFACTOR = "glm.refactor"
FIX = "glm.fix"
GENERATE_TESTS = "glm.generateTests"
