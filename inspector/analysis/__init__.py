"""What each command computes: one function per command, returning plain results.

Knows nothing of argparse or of output; inspector/render turns the results into text or JSON.
"""
