print("exiting with 7")
os.exit(7)
print("never printed")
