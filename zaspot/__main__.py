from zaspot.cli import main

raise SystemExit(main())
