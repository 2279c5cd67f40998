"""nbgrader's configuration for the miniae exercises (copied into a course folder by nbgrader_course.py).

The exercises are one assignment, ``exercises``: one notebook per exercise, each with solution
cells (between ### BEGIN SOLUTION / ### END SOLUTION) and locked grade cells with points.
"""
c = get_config()  # noqa: F821  (nbgrader provides it)

c.CourseDirectory.course_id = "miniae"
# a grade cell a student deleted is put back (from the instructor's version) before grading
c.OverwriteCells.add_missing_cells = True
# the longest check cell trains a small model; a stuck student loop should not hang the grader
c.Execute.timeout = 300
