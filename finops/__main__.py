from finops.cli import main

raise SystemExit(main())
