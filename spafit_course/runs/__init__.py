"""The runs: everything that trains or measures a model on data (lessons 00 and 05, the command line).

Profiles, tasks, data, models and the Hub check, metrics, training, compare, sweep, bench, predict and probes.
It may import `spafit_course.tuning`, never the lessons or the command line.
"""
