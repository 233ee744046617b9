import sys

from glm_lsp.cli import main

sys.exit(main())
