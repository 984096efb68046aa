import sys

from hubkit.cli import main

sys.exit(main())
