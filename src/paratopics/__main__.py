from paratopics.cli import main

raise SystemExit(main())
