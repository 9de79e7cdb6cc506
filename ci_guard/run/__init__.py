"""The run: attempts, the retry ladder, the records and what is written after."""
