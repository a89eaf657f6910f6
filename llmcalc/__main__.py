from llmcalc.launch import main

main()
