from antseg.cli import main

main()
