# Instructor workflow for the nbgrader course in exercises/ (included from the top-level Makefile,
# which defines BIN, STAMP and puts $(BIN) first on PATH: nbgrader calls `alembic` by name).
# Every nbgrader command runs inside exercises/, the course root (gradebook: exercises/gradebook.db).
#
#   make assignments                   generate every assignment into exercises/release/
#   make autograde                     dlcourse-grade every submission in exercises/submitted/ (as root)
#   make feedback                      feedback HTML into exercises/feedback/<student>/<assignment>/
#   make grades                        export every grade to exercises/grades.csv
#   make roster ROSTER=students.csv    import students (columns id,first_name,last_name,email)
#   make zip-collect ASSIGNMENT=ex01_perceptron [FORCE=1]   collect an LMS download from
#                                      exercises/downloaded/<assignment>/archive/ into submitted/,
#                                      with timestamp.txt from the download's file times
#                                      (FORCE=1: collect again, replacing what was collected)
#   make due ASSIGNMENT=... DUE="2026-01-10 17:00:00 UTC"   set a due date (late penalty: 10 %/day)
#   make regrade ASSIGNMENT=... [STUDENT=id]   grade again with dlcourse-grade after a fix
#   make return-feedback               copy feedback to exercises/feedback_to_return/<assignment>/<student>.html
#   make exercise-sources              rebuild exercises/source/ from exercises/make_sources.py
#   make formgrader [PORT=8888]        start Jupyter in exercises/ to grade written answers
#                                      (adds --allow-root when run as root, as dlcourse-grade is)

EXERCISES      := exercises
EXERCISE_IDS   := ex01_perceptron ex02_mlp ex03_derivatives ex04_losses ex05_optimizers ex06_cnn ex07_training
NBGRADER       = cd $(EXERCISES) && $(BIN)/nbgrader
ASSIGNMENT     ?=
STUDENT        ?=
ROSTER         ?=
DUE            ?=
FORCE          ?=
PORT           ?= 8888
# Jupyter refuses to start as root unless told to; the grading machine runs as root.
ALLOW_ROOT     = $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: assignments autograde feedback grades roster zip-collect due regrade return-feedback \
        exercise-sources formgrader

exercise-sources: $(STAMP)
	$(BIN)/python $(EXERCISES)/make_sources.py

assignments: $(STAMP)
	$(BIN)/python $(EXERCISES)/make_sources.py --check || \
	  echo "warning: exercises/source differs from make_sources.py (edited by hand? run make exercise-sources)"
	@for a in $(EXERCISE_IDS); do \
	  echo "== generate $$a"; ($(NBGRADER) generate_assignment $$a --force) || exit 1; done
	@echo "Released notebooks: $(EXERCISES)/release/<assignment>/<assignment>.ipynb"

# Autograding is dlcourse-grade's (sandboxed, verified outside the kernel, as root for the
# sandbox); stock `nbgrader autograde` would run learner code unsandboxed and record the
# in-kernel scores, so no target here calls it.
DLCOURSE_GRADE = cd $(EXERCISES) && $(BIN)/dlcourse-grade autograde
JOBS_GRADE     ?= 2
# More dlcourse-grade options, e.g. GRADE_OPTS="--student-timeout 300 --cell-timeout 30"
GRADE_OPTS     ?=

autograde: $(STAMP)
	@for a in $(EXERCISE_IDS); do \
	  if ls -d $(EXERCISES)/submitted/*/$$a >/dev/null 2>&1; then \
	    echo "== dlcourse-grade $$a"; ($(DLCOURSE_GRADE) $$a --jobs $(JOBS_GRADE) $(GRADE_OPTS)) || exit 1; \
	  else echo "== $$a: no submissions"; fi; done

feedback: $(STAMP)
	@for a in $(EXERCISE_IDS); do \
	  if ls -d $(EXERCISES)/autograded/*/$$a >/dev/null 2>&1; then \
	    echo "== feedback $$a"; ($(NBGRADER) generate_feedback $$a --force) || exit 1; fi; done

grades: $(STAMP)
	$(NBGRADER) export --to grades.csv
	@echo "Grades: $(EXERCISES)/grades.csv"

roster: $(STAMP)
	@test -n "$(ROSTER)" || { echo "usage: make roster ROSTER=path/to/students.csv"; exit 2; }
	$(NBGRADER) db student import $(abspath $(ROSTER))

zip-collect: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make zip-collect ASSIGNMENT=ex01_perceptron"; exit 2; }
	$(NBGRADER) zip_collect $(ASSIGNMENT) $(if $(FORCE),--force)

due: $(STAMP)
	@test -n "$(ASSIGNMENT)" -a -n "$(DUE)" || { echo 'usage: make due ASSIGNMENT=ex01_perceptron DUE="2026-01-10 17:00:00 UTC"'; exit 2; }
	$(NBGRADER) db assignment add $(ASSIGNMENT) --duedate="$(DUE)"

regrade: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make regrade ASSIGNMENT=ex01_perceptron [STUDENT=id]"; exit 2; }
	$(DLCOURSE_GRADE) $(ASSIGNMENT) --jobs $(JOBS_GRADE) $(GRADE_OPTS) $(if $(STUDENT),--student $(STUDENT))

return-feedback: feedback
	@for f in $(EXERCISES)/feedback/*/*/*.html; do \
	  [ -e "$$f" ] || continue; \
	  s=$$(basename $$(dirname $$(dirname $$f))); a=$$(basename $$(dirname $$f)); \
	  mkdir -p $(EXERCISES)/feedback_to_return/$$a; cp "$$f" $(EXERCISES)/feedback_to_return/$$a/$$s.html; done
	@echo "One HTML per student: $(EXERCISES)/feedback_to_return/<assignment>/<student>.html"

formgrader: $(STAMP)
	cd $(EXERCISES) && $(BIN)/jupyter lab --no-browser --port=$(PORT) $(ALLOW_ROOT)
