namespace RemoteMem.Functions;

/// <summary>
/// Registers a public <see cref="IRemoteFunction"/> class with a public parameterless constructor
/// under <see cref="Name"/>, the name clients invoke it by. Names are unique within a package.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RemoteFunctionAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
