from truyvet.cli import main

main()
