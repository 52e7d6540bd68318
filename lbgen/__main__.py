from lbgen.cli import main

raise SystemExit(main())
