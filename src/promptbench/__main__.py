from promptbench.cli import main

raise SystemExit(main())
