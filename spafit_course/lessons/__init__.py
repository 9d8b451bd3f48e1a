"""The lessons' own code: their experiments, the practice checks, the explorer, figures and notebook set-up.

It may import `spafit_course.tuning` and `spafit_course.runs`, never the command line.
"""
