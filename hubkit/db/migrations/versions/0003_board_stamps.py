"""board stamps: how many scores each board holds under each stamp

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _count_existing_scores() -> None:
    """Count what the boards already rank: current, scored, platform-run evaluations of models."""
    bind = op.get_bind()
    suite = ("stamp ->> 'suite'" if bind.dialect.name == "postgresql" else "json_extract(stamp, '$.suite')")
    bind.execute(sa.text(
        "INSERT INTO board_stamps (domain, task, stamp_hash, suite, scores) "
        f"SELECT domain, task, stamp_hash, MIN(COALESCE({suite}, 'offline')), COUNT(*) FROM evaluations "
        "WHERE is_current AND status = 'scored' AND executed_by = 'platform' AND model_id IS NOT NULL "
        "GROUP BY domain, task, stamp_hash"))


def upgrade() -> None:
    op.create_table('board_stamps',
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('task', sa.String(length=120), nullable=False),
    sa.Column('stamp_hash', sa.String(length=64), nullable=False),
    sa.Column('suite', sa.String(length=40), nullable=False),
    sa.Column('scores', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('domain', 'task', 'stamp_hash', name=op.f('pk_board_stamps'))
    )
    _count_existing_scores()


def downgrade() -> None:
    op.drop_table('board_stamps')
