namespace RemoteMem.Wire;

/// <summary>What a connecting peer says it is, in its Hello. Some opcodes are only accepted from some roles.</summary>
public enum PeerRole : byte
{
    Client = 1,
    Donor = 2,
    Manager = 3,
}
