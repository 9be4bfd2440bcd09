"""monday.com: GraphQL client, push planner and the local sandbox."""
