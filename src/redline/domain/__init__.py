"""The hotline's vocabulary: stations, precedences, message kinds, delivery states.

Pure Python, standard library only (a test keeps it so): no framework, no
database, no cryptography. Everything here can be reasoned about on paper.
"""
