import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from affiliates.routing.command import AffiliateCommand
from gym.members.models import Member
from gym.workouts.models import ScalingLevel, Workout
from gym.workouts.selectors import leaderboard_for_workout


class Command(AffiliateCommand):
    help = "Print a workout's ranked leaderboard: manage.py leaderboard --affiliate ironworks WORKOUT_ID"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workout_id", type=int)
        parser.add_argument("--level", choices=ScalingLevel.values)
        parser.add_argument("--gender", choices=Member.Gender.values)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, workout_id: int, **options: Any) -> None:
        workout = Workout.objects.filter(pk=workout_id).first()
        if workout is None:
            raise CommandError(f"{options['affiliate']} has no workout {workout_id}")
        board = leaderboard_for_workout(workout, level=options["level"], gender=options["gender"])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    [
                        {
                            "rank": r.rank,
                            "member": str(r.participation.member),
                            "level": r.participation.scaling_level,
                            "score": r.score,
                        }
                        for r in board
                    ],
                    indent=2,
                )
            )
            return
        self.stdout.write(f"{workout.name} ({workout.scheduled_on}, {workout.get_score_type_display()})")
        for row in board:
            self.stdout.write(
                f"{row.rank:>4}  {str(row.participation.member):<28} "
                f"{row.participation.get_scaling_level_display():<12} {row.score}"
            )
