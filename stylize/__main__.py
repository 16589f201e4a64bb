from stylize.cli.main import main

main()
